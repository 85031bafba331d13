"""The window's side of a conversation's life: one ``SessionBridge`` per conversation (its
session on a QThread, notices as queued signals), the ``OpenConversations`` the window
shows one of, and the alerts that tell the user the agent needs them."""
