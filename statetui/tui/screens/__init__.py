"""The console's screens. Each reads the shared context (`self.ctx`) and posts messages
(statetui.tui.messages); the app opens screens by name (statetui.tui.console). Nothing
here imports the app or another screen, only the shared bases (screens.base, screens.table)."""
