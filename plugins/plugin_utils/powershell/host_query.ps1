# tasksequence.windows script: host_query
# Read-only CIM and registry queries that the controller describes as data (see
# plugins/plugin_utils/_inventory.py): Check Readiness, Set Dynamic Variables and the
# hardware inventory all use it. Sent through ansible.windows.win_powershell with `parameters`
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
            $found = Get-CimInstance -Namespace $query.namespace -ClassName $query.class -Property $query.properties -ErrorAction Stop
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
            $rows.Add([ordered]@{ value = $item.($query.value) })
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
