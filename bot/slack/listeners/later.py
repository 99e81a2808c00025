"""Work that follows the acknowledgement.

The app runs with Bolt's ``process_before_response``: a listener's ack function runs on the
request's own thread and the HTTP response goes out as soon as it returns. (Without it Bolt
runs every listener on its pool and the request thread polls every 10 ms for the ``ack()``:
up to 10 ms added to every button and command, the largest cost of an ack after the
question log.) Listeners that call Slack after acknowledging register with
:func:`after_ack`: an empty ack at once, then the listener as a Bolt lazy listener on the
app's listener pool — what Bolt recommends on FaaS, and what keeps the 3-second ack here.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from slack_bolt.kwargs_injection import Args

from bot.slack.listeners.errors import listener_failed

if TYPE_CHECKING:
    from slack_bolt import Ack

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., None])


def _ack(ack: Ack) -> None:
    ack()


def after_ack(listener: Callable[..., Any]) -> Callable[[F], F]:
    """``@after_ack(app.action("x"))`` for ``@app.action("x")`` with ``ack()`` first: the
    function takes the same arguments as a listener, minus ``ack``."""

    def register(function: F) -> F:
        wanted = list(inspect.signature(function).parameters)

        def run(args: Args) -> None:  # Bolt passes every argument it has as one ``Args``
            try:
                function(**{name: getattr(args, name) for name in wanted})
            except Exception as error:  # logged once and apologised for, as before the ack
                listener_failed(error, args.body, args.context, args.client)

        run.__name__ = run.__qualname__ = function.__name__
        listener(ack=_ack, lazy=[run])
        return function

    return register
