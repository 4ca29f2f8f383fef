"""cases models: built in the cases issue."""
