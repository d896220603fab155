"""What a batch says: summary statistics, comparisons and sensitivity analyses."""
