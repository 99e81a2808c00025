#!/usr/bin/env bash
# Mutation testing of the modules that carry the bot's promises: mutmut changes one thing at a
# time (a comparison, a constant, a returned value, a dropped argument) and runs the tests that
# cover it; a mutant no test notices ("survived") is a promise nothing checks.
#
#   .venv/bin/pip install -e ".[test,mutation]"
#   bench/mutation.sh                      # every module below (well over an hour on 2 cores)
#   bench/mutation.sh bot.store.runs       # one module
#   bench/mutation.sh --score              # print the scores of what has run, run nothing
#
# Configuration (files, tests, the log-call exclusion) is [tool.mutmut] in pyproject.toml.
# A run re-tests every mutant of the modules it names; results stay in mutants/ (git-ignored)
# for --score and for `.venv/bin/mutmut show NAME`. Not part of .ci/run (tens of minutes).
# Prints, per module: mutants killed, mutants run and the score, then every survivor.
# MUTATION_CHILDREN sets mutmut's parallel workers (default: the number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."

# Module -> the mutants it means. For the digest, the claim/retry/bag logic (Digest's
# methods but its constructors), not the cron parsing or the history listing. For search, the
# ranking: the index (query, scores, suggestions, and the constructor that builds what they
# read), which playbook a question names or points at, and the acronyms and clippings of names;
# not intent.py (its 250 mutants take half an hour here), not the optional semantic.py.
declare -A TARGETS=(
  [bot.digest.pool]="bot.digest.pool.xǁDigestǁtick__mutmut_* bot.digest.pool.xǁDigestǁpost_now__mutmut_* bot.digest.pool.xǁDigestǁ_retryable__mutmut_* bot.digest.pool.xǁDigestǁ_already_posted__mutmut_* bot.digest.pool.xǁDigestǁ_post__mutmut_* bot.digest.pool.xǁDigestǁ_item_for__mutmut_* bot.digest.pool.xǁDigestǁpeek__mutmut_* bot.digest.pool.xǁDigestǁ_draw__mutmut_* bot.digest.pool.xǁDigestǁ_plan__mutmut_* bot.digest.pool.xǁDigestǁ_fresh_order__mutmut_* bot.digest.pool.xǁDigestǁdue_time__mutmut_*"
  [bot.slack.outbox]="bot.slack.outbox.*"
  [bot.store.runs]="bot.store.runs.*"
  [bot.store.bag]="bot.store.bag.*"
  [bot.store.events]="bot.store.events.*"
  [bot.render.mrkdwn]="bot.render.mrkdwn.*"
  [bot.search.index]="bot.search.index.*"
  [bot.search.playbooks]="bot.search.playbooks.*"
  [bot.search.names]="bot.search.names.*"
)
ORDER=(bot.digest.pool bot.store.runs bot.store.bag bot.store.events bot.render.mrkdwn bot.slack.outbox bot.search.index bot.search.playbooks bot.search.names)

mutmut=.venv/bin/mutmut
if ! [ -x "$mutmut" ]; then
  echo "mutation: mutmut is not installed: .venv/bin/pip install -e '.[test,mutation]'" >&2
  exit 2
fi

score_only=0
modules=()
for arg in "$@"; do
  case "$arg" in
    --score) score_only=1 ;;
    *)
      if [ -z "${TARGETS[$arg]+x}" ]; then
        echo "mutation: unknown module $arg (one of: ${ORDER[*]})" >&2
        exit 2
      fi
      modules+=("$arg") ;;
  esac
done
[ ${#modules[@]} -gt 0 ] || modules=("${ORDER[@]}")

if [ "$score_only" = 0 ]; then
  children="${MUTATION_CHILDREN:-$(nproc)}"
  # mutmut keeps which tests reach which function between runs and collects it again only
  # for tests it has not seen: a function added since (or reached by an old test through new
  # code) would be tried against the new tests alone, and its mutants "survive" the rest.
  rm -f mutants/mutmut-stats.json
  for module in "${modules[@]}"; do
    echo "mutation: $module" >&2
    start=$SECONDS
    # shellcheck disable=SC2086  # the patterns are globs for mutmut, not for the shell
    set -f
    "$mutmut" run --max-children "$children" ${TARGETS[$module]} >/dev/null
    set +f
    echo "mutation: $module took $((SECONDS - start)) s" >&2
  done
fi

# Score per module (bench/mutation_score.py): killed over every mutant that ran.
spec=""
for module in "${modules[@]}"; do spec+="$module=${TARGETS[$module]}"$'\n'; done
"$mutmut" results --all true 2>/dev/null | MUTATION_TARGETS="$spec" .venv/bin/python bench/mutation_score.py
