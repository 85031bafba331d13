; Inno Setup script: an installer over the PyInstaller one-folder bundle (dist\berth).
; Build on Windows from the repository root, after the bundle (see packaging/README.md):
;   iscc /DAppVersion=0.1.0 packaging\windows\berth.iss
; Produces dist\berth-desktop-VERSION-setup.exe. It cannot be built on the Linux machine
; that builds the .deb; the GitHub Actions workflow builds it on a Windows runner.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define Root ".." + "\" + ".."

[Setup]
AppId={{6E1C2B8A-4F0D-4C35-9B7E-2D9A5B1F0C43}
AppName=Berth
AppVersion={#AppVersion}
AppVerName=Berth {#AppVersion}
AppPublisher=Berth maintainers
AppPublisherURL=https://github.com/berth-desktop/berth
DefaultDirName={autopf}\Berth
DefaultGroupName=Berth
DisableProgramGroupPage=yes
; Per-user install by default (no UAC prompt); an administrator may choose all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\dist
OutputBaseFilename=berth-desktop-{#AppVersion}-setup
SetupIconFile={#Root}\build\icons\berth.ico
UninstallDisplayIcon={app}\berth.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the berth command to PATH (for berth --self-test and berth run)"; Flags: unchecked

[Files]
Source: "{#Root}\dist\berth\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Berth"; Filename: "{app}\berth.exe"; WorkingDir: "{userdocs}"
Name: "{group}\{cm:UninstallProgram,Berth}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Berth"; Filename: "{app}\berth.exe"; WorkingDir: "{userdocs}"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\berth.exe"; Description: "{cm:LaunchProgram,Berth}"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Paths: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Paths) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Paths) + ';') = 0;
end;
