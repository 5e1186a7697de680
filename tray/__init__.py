"""The system-tray icon: Pillow-drawn icons, a menu model built from status, notifications."""
