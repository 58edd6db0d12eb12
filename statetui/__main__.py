from statetui.cli import entry

entry()
