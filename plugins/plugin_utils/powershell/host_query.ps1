# tasksequence.windows script: host_query
# Read-only CIM (optionally filtered), registry value, path and registry key queries that the
# controller describes as data (see plugins/plugin_utils/_inventory.py and _engine.py): Check
# Readiness, Set Dynamic Variables, the hardware inventory and the sequence engine's host
# conditions all use it. Sent through ansible.windows.win_powershell with `parameters`
# and `depth`. Reviewed against docs/dev/powershell-checklist.md; not run on Windows by this
# project (its tests execute this text on the simulated host).
# Read-only, so it declares SupportsShouldProcess: win_powershell runs it in check mode too.
[CmdletBinding(SupportsShouldProcess = $true)]
param (
    [Parameter(Mandatory = $true)]
    [object[]]
    $Queries
)

$answers = [ordered]@{}
foreach ($query in $Queries) {
    $rows = [System.Collections.Generic.List[object]]::new()
    $failure = $null
    try {
        if ($query.kind -eq 'cim') {
            $optional = @{}
            if ($query.filter) { $optional.Filter = $query.filter }
            # No properties named (a WMI condition without WHERE): whole instances, only counted.
            if ($query.properties) { $optional.Property = $query.properties }
            $found = Get-CimInstance -Namespace $query.namespace -ClassName $query.class @optional -ErrorAction Stop
            foreach ($instance in $found) {
                $row = [ordered]@{}
                foreach ($property in $query.properties) {
                    $row[$property] = $instance.$property
                }
                $rows.Add($row)
            }
        }
        elseif ($query.kind -eq 'registry') {
            $item = Get-ItemProperty -LiteralPath $query.path -Name $query.value -ErrorAction Stop
            $row = [ordered]@{ value = $item.($query.value) }
            if ($query.type) {
                # The value's RegistryValueKind (String, DWord, ...), for conditions that name a type.
                $row.type = [string](Get-Item -LiteralPath $query.path -ErrorAction Stop).GetValueKind($query.value)
            }
            $rows.Add($row)
        }
        elseif ($query.kind -eq 'key') {
            # A registry key: one empty row when it exists.
            if (Test-Path -LiteralPath $query.path) { $rows.Add([ordered]@{}) }
        }
        elseif ($query.kind -eq 'path') {
            # A file or folder (environment variables expanded, as win_stat does): no row when missing.
            $path = [Environment]::ExpandEnvironmentVariables($query.path)
            if (Test-Path -LiteralPath $path) {
                $item = Get-Item -LiteralPath $path -Force -ErrorAction Stop
                $rows.Add([ordered]@{ folder = $item.PSIsContainer; time = $item.LastWriteTime.ToFileTimeUtc() })
            }
        }
        else {
            $failure = "unknown query kind '$($query.kind)'"
        }
    }
    catch {
        # A missing namespace, class or value is an answer too (no TPM, no ConfigMgr client).
        $failure = $_.Exception.Message
    }
    $answers[$query.name] = [ordered]@{ rows = $rows; error = $failure }
}
$answers
