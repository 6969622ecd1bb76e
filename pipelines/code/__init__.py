"""code: the GitHub repositories that model cards and cited papers name (see docs/code.md).

The shape of every source: `client` (the only network code: GitHub's REST API through PyGithub), `raw` (its
raw captures, registered with the raw store), `parse` (pure functions to the `code_repos` rows and the
licence-file history; with `tree`, what a tree shows, `links`, repository names from URLs, `state`, what the
raw layer already holds, and `release_code`, links and roles), `crawl` (one repository), `step` (the run of a
crawl date with its cost account), `settings` (its frozen settings) and `report` (the `openness code`
command).
"""
