"""Reading and checking what the user gives: study data (counts, reported effects), shipped
examples, analysis specifications; writing result files atomically."""
