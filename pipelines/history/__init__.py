"""History: validity intervals, dated transitions and timelines."""
