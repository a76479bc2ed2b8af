"""Qt widgets of the application."""
