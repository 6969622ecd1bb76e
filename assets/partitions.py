"""Partitions: one crawl partition per day (the crawl date)."""

import dagster as dg

# Early enough for the replayable history of the Hub (the sample corpus has commits from 2021 on).
daily_crawl_partitions = dg.DailyPartitionsDefinition(start_date="2019-01-01", end_offset=1)
