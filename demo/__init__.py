"""A simulated Amazon Connect contact centre for demos: events, their delivery, the expected state, DescribeContact."""
