"""Work that runs off the GUI thread: inference, saliency, export, thumbnails, training."""
