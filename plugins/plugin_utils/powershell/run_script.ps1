# tasksequence.windows script: run_script
# Run PowerShell Script's call, as ConfigMgr makes it: powershell.exe runs this text from
# -EncodedCommand (through ansible.windows.win_command, so the exit code is the step's).
# Everything variable arrives as data: UTF-8 JSON on stdin, {script, path, parameters}.
# An inline script is written to a temp .ps1 first so the execution policy applies to it, as
# it does to ConfigMgr's own temp copy. A parameter string is parsed as PowerShell (ConfigMgr's
# form: -Name 'value'); a dictionary is splatted, so its values are never parsed as code.
# Reviewed against docs/dev/powershell-checklist.md; not run on Windows by this project (its
# tests execute this text on the simulated host). No $ErrorActionPreference here: the user's
# script inherits this scope's preference and must keep PowerShell's default.
$buffer = New-Object -TypeName System.IO.MemoryStream
[Console]::OpenStandardInput().CopyTo($buffer)
$request = ConvertFrom-Json -InputObject ([System.Text.Encoding]::UTF8.GetString($buffer.ToArray())) -ErrorAction Stop

$path = $request.path
if ($null -ne $request.script) {
    $path = Join-Path -Path ([System.IO.Path]::GetTempPath()) -ChildPath ('ts-' + [Guid]::NewGuid().ToString() + '.ps1')
    [System.IO.File]::WriteAllText($path, $request.script, (New-Object -TypeName System.Text.UTF8Encoding -ArgumentList $true))
}
$code = 0
try {
    $global:LASTEXITCODE = 0
    if ($request.parameters -is [string]) {
        # $? must be read inside the script block, right after the script: outside it only
        # says whether the block ran.
        $call = [scriptblock]::Create('& $args[0] ' + $request.parameters + [Environment]::NewLine + '$args[1].Value = $?')
        $status = [ref]$true
        & $call $path $status
        $ok = $status.Value
    }
    else {
        $splat = @{}
        if ($null -ne $request.parameters) {
            foreach ($property in $request.parameters.PSObject.Properties) {
                $splat[$property.Name] = $property.Value
            }
        }
        & $path @splat
        $ok = $?
    }
    # The script's `exit N` fails the call ($? false) and sets $LASTEXITCODE; a script that
    # ends normally gives 0 even when a program it ran last returned non-zero.
    if (-not $ok) {
        $code = $LASTEXITCODE
        if (-not $code) { $code = 1 }
    }
}
catch {
    [Console]::Error.WriteLine($_.ToString())
    $code = 1
}
finally {
    if ($null -ne $request.script) {
        Remove-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue
    }
}
exit $code
