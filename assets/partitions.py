"""Partitions: one crawl partition per day (the crawl date)."""

import dagster as dg

# The replayable history of the Hub starts in 2022 (the oldest revisions in the sample corpus).
daily_crawl_partitions = dg.DailyPartitionsDefinition(start_date="2022-01-01", end_offset=1)
