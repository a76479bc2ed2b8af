"""One module per `loupe` subcommand; each defines `add_arguments(parser)` and `run(args) -> int`."""
