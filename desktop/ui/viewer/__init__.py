"""The viewer's widgets: canvas, image list, window/level, inspector, notifications, workers."""
