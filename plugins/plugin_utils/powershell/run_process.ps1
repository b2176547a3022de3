# tasksequence.windows script: run_process
# Runs one process for a task sequence step (Run Command Line, Run PowerShell Script):
# its environment, working directory, stdout/stderr, and a timeout that kills the whole
# process tree. Sent by the step plugins through ansible.windows.win_powershell.
# Not verified on Windows by this project: its tests run the simulated host, which emulates
# this contract (tests/winsim/scripts.py).
# The payload (JSON) holds command_line, environment and, for Run PowerShell Script,
# powershell = {script_text | script_path, arguments, execution_policy}. It comes as a plain
# string, or as a SecureString (win_powershell's sensitive_parameters) when it carries hidden
# values, so that the module invocation never echoes it.
[CmdletBinding()]
param (
    [string]$payload_json,
    [System.Security.SecureString]$sensitive_payload,
    [string]$working_directory,
    [int]$timeout_seconds = 0,
    [bool]$redirect_wow64 = $false
)
$ErrorActionPreference = 'Stop'

if ($sensitive_payload) {
    $payload_json = (New-Object Net.NetworkCredential -ArgumentList '', $sensitive_payload).Password
}
$payload = ConvertFrom-Json -InputObject $payload_json
$command_line = [string]$payload.command_line

$scriptPath = $null
if ($payload.powershell) {
    # powershell.exe parses the arguments as PowerShell does (quotes, '' escapes) because the
    # call goes in an encoded command; exit codes of the script pass through.
    $ps = $payload.powershell
    $target = [string]$ps.script_path
    if ($ps.script_text) {
        $scriptPath = Join-Path ([IO.Path]::GetTempPath()) ('ts-{0}.ps1' -f [Guid]::NewGuid())
        [IO.File]::WriteAllText($scriptPath, [string]$ps.script_text, (New-Object Text.UTF8Encoding $true))
        $target = $scriptPath
    }
    $invoke = "try { & '{0}' {1}; exit [int]`$LASTEXITCODE } catch { [Console]::Error.WriteLine(`$_); exit 1 }" -f @(
        $target.Replace("'", "''"), [string]$ps.arguments)
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($invoke))
    $policy = ''
    if ($ps.execution_policy) { $policy = '-ExecutionPolicy {0} ' -f $ps.execution_policy }
    $command_line = 'powershell.exe -NoLogo -NoProfile -NonInteractive {0}-EncodedCommand {1}' -f $policy, $encoded
}

# The first token is the program, the rest its arguments, as CreateProcess splits them.
$cmd = $command_line.Trim()
if ($cmd.StartsWith('"')) {
    $end = $cmd.IndexOf('"', 1)
    if ($end -lt 0) { $end = $cmd.Length }
    $file = $cmd.Substring(1, $end - 1)
    $arguments = $cmd.Substring([Math]::Min($end + 1, $cmd.Length)).TrimStart()
}
else {
    $parts = $cmd -split '\s+', 2
    $file = $parts[0]
    $arguments = if ($parts.Count -gt 1) { $parts[1] } else { '' }
}
# As ConfigMgr: a program named without an extension is tried as .com, .exe, then .bat, in the
# working directory and then on PATH; a batch file runs through cmd.exe.
if (-not [IO.Path]::HasExtension($file)) {
    $folders = @($working_directory) + ($env:PATH -split ';') | Where-Object { $_ }
    if ([IO.Path]::IsPathRooted($file)) { $folders = @([IO.Path]::GetDirectoryName($file)) }
    $found = $null
    foreach ($ext in '.com', '.exe', '.bat') {
        foreach ($folder in $folders) {
            $candidate = Join-Path $folder ([IO.Path]::GetFileName($file) + $ext)
            if ([IO.File]::Exists($candidate)) { $found = $candidate; break }
        }
        if ($found) { break }
    }
    if ($found) { $file = $found }
}
if ($file -match '\.(bat|cmd)$') {
    $arguments = ('/c ""{0}" {1}"' -f $file, $arguments)
    $file = Join-Path $env:SystemRoot 'System32\cmd.exe'
}
# ConfigMgr runs steps in a 32-bit process: System32 paths resolve to SysWOW64 unless
# the step disables that redirection.
if ($redirect_wow64 -and [Environment]::Is64BitOperatingSystem) {
    $file = $file -replace '(?i)\\System32\\', '\SysWOW64\'
}

$result = [ordered]@{ rc = $null; stdout = ''; stderr = ''; timed_out = $false; command_found = $true }
$psi = New-Object Diagnostics.ProcessStartInfo
$psi.FileName = $file
$psi.Arguments = $arguments
$psi.UseShellExecute = $false
$psi.RedirectStandardOutput = $true
$psi.RedirectStandardError = $true
$psi.CreateNoWindow = $true
if ($working_directory) { $psi.WorkingDirectory = $working_directory }
foreach ($var in $payload.environment.PSObject.Properties) { $psi.EnvironmentVariables[$var.Name] = [string]$var.Value }

try {
    $proc = [Diagnostics.Process]::Start($psi)
}
catch {
    $result.command_found = $false
    $result.stderr = $_.Exception.InnerException.Message
    if (-not $result.stderr) { $result.stderr = $_.Exception.Message }
    if ($scriptPath) { Remove-Item -LiteralPath $scriptPath -Force -ErrorAction SilentlyContinue }
    return [PSCustomObject]$result
}
$stdout = $proc.StandardOutput.ReadToEndAsync()
$stderr = $proc.StandardError.ReadToEndAsync()
$waitMs = if ($timeout_seconds -gt 0) { $timeout_seconds * 1000 } else { -1 }
if ($proc.WaitForExit($waitMs)) {
    $proc.WaitForExit()
    $result.rc = $proc.ExitCode
}
else {
    $result.timed_out = $true
    & taskkill.exe /T /F /PID $proc.Id | Out-Null
    $null = $proc.WaitForExit(10000)
}
$result.stdout = $stdout.Result
$result.stderr = $stderr.Result
if ($scriptPath) { Remove-Item -LiteralPath $scriptPath -Force -ErrorAction SilentlyContinue }
[PSCustomObject]$result
