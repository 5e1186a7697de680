"""The command line's commands, one module each: `run(args, profile) -> int` parses nothing, calls
one function of the service or sync shell, and prints."""
