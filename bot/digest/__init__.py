"""The weekly digest: the pool and shuffle bag and the exactly-once tick for one channel
(``pool``), every workspace's channel (``fleet``), the schedule people choose (``when``),
the scheduler process (``clock``) and its command line (``cli``)."""
