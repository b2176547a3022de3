param([string]$Who)
$here = Get-Location
Write-Output "hello $Who in $here"
