@echo off
rem congsync-autostart: written by "congsync autostart on"; "congsync autostart off" removes it.
chcp 65001 >nul
start "" "C:\Users\volunteer\pipx\venvs\congsync\Scripts\pythonw.exe" -m daemon run
