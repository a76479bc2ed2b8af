; Inno Setup script of Loupe for Windows (Inno Setup 6). Packs packaging\dist\Loupe (the PyInstaller
; one-folder bundle) into Loupe-<version>-windows-<variant>-setup.exe:
;   iscc /DAppVersion=0.1.0 /DVariant=cpu packaging\windows\loupe.iss
; Per-user install (no administrator rights), Start menu entry, optional desktop icon, "Open in Loupe"
; on folders (a Loupe project is an image folder; its annotations live in <folder>\.loupe), and an
; uninstaller that leaves the user's models and annotations alone.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef Variant
  #define Variant "cpu"
#endif
#define AppName "Loupe"
#define AppExe "Loupe.exe"
#define BundleDir "..\dist\Loupe"

[Setup]
AppId={{6C7A1E0B-7E55-4C8E-9A0B-4C6F75706501}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Loupe contributors
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\dist
OutputBaseFilename=Loupe-{#AppVersion}-windows-{#Variant}-setup
SetupIconFile=..\build\icons\Loupe.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/ultra64
SolidCompression=yes
LZMANumBlockThreads=4
WizardStyle=modern
ChangesAssociations=yes
; Reproducible: the same bundle gives the same installer bytes (no build time stamped in).
TimeStampsInUTC=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "folderverb"; Description: "Add ""Open in Loupe"" to folders in Explorer"; GroupDescription: "Integration:"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\{#AppName} (self-test)"; Filename: "{app}\loupe-cli.exe"; Parameters: "--self-test"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; "Open in Loupe" on a folder and on a folder's background: opens it as a Loupe project.
Root: HKA; Subkey: "Software\Classes\Directory\shell\Loupe"; ValueType: string; ValueName: ""; ValueData: "Open in Loupe"; Flags: uninsdeletekey; Tasks: folderverb
Root: HKA; Subkey: "Software\Classes\Directory\shell\Loupe"; ValueType: string; ValueName: "Icon"; ValueData: """{app}\{#AppExe}"",0"; Tasks: folderverb
Root: HKA; Subkey: "Software\Classes\Directory\shell\Loupe\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: folderverb
Root: HKA; Subkey: "Software\Classes\Directory\Background\shell\Loupe"; ValueType: string; ValueName: ""; ValueData: "Open in Loupe"; Flags: uninsdeletekey; Tasks: folderverb
Root: HKA; Subkey: "Software\Classes\Directory\Background\shell\Loupe\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%V"""; Tasks: folderverb

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; The models folder (%LOCALAPPDATA%\Loupe\models) and each folder's .loupe annotations belong to the
; user: the uninstaller removes only what it installed.
