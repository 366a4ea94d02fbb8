"""The crowd side of the platform: the labeling queue, agreement between labelers, gold lines."""
