"""Command-line and desktop clients of the Ottoman OCR platform's API (/api/v1/)."""
