; Inno Setup script: installs the PyInstaller one-folder app for the current user only.
; Build the app first (pyinstaller ... packaging/pyinstaller/congsync.spec, on Windows), then:
;   iscc packaging\windows\congsync.iss      -> packaging\windows\Output\congsync-setup.exe
; No administrator rights: everything goes under the user's own folders and registry hive.

#define AppVersion "0.1.0"

[Setup]
AppId={{6B0F3C52-8D0E-4B8F-9B43-2A8D1C7E5F10}
AppName=congsync
AppVersion={#AppVersion}
AppPublisher=congsync volunteers
DefaultDirName={localappdata}\Programs\congsync
DefaultGroupName=congsync
DisableProgramGroupPage=yes
DisableDirPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=congsync-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\congsync-tray.exe
CloseApplications=yes

[Files]
Source: "..\..\build\dist\congsync\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
; The Start-menu entry
Name: "{userprograms}\congsync"; Filename: "{app}\congsync-tray.exe"; WorkingDir: "{app}"
; Start at login (the user's own Startup folder; Task Manager > Startup apps can switch it off)
Name: "{userstartup}\congsync"; Filename: "{app}\congsync-tray.exe"; WorkingDir: "{app}"

[Run]
; The first start opens the setup page in the browser, as congsync does while nothing is set up.
Filename: "{app}\congsync-tray.exe"; Description: "Start congsync now"; Flags: nowait postinstall skipifsilent

[UninstallRun]
Filename: "{app}\congsync.exe"; Parameters: "stop"; Flags: runhidden; RunOnceId: "StopCongsync"
