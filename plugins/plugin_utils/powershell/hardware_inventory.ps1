# tasksequence.windows script: hardware_inventory
# One small inventory query shared by Set Dynamic Variables and Check Readiness: the
# values ConfigMgr's engine reads for _SMSTSMake/Model/..., and for the readiness checks.
# Not verified on Windows by this project: its tests run the simulated host, which emulates
# this contract (tests/winsim/scripts.py).
# Read-only, so it declares SupportsShouldProcess: win_powershell runs it in check mode too.
[CmdletBinding(SupportsShouldProcess = $true)]
param ()
$ErrorActionPreference = 'Stop'

$os = Get-CimInstance -ClassName Win32_OperatingSystem
$cs = Get-CimInstance -ClassName Win32_ComputerSystem
$bios = Get-CimInstance -ClassName Win32_BIOS
$product = Get-CimInstance -ClassName Win32_ComputerSystemProduct
$enclosure = Get-CimInstance -ClassName Win32_SystemEnclosure | Select-Object -First 1
$cpu = Get-CimInstance -ClassName Win32_Processor | Select-Object -First 1
$disk = Get-CimInstance -ClassName Win32_LogicalDisk -Filter ("DeviceID='{0}'" -f $env:SystemDrive)

$adapters = @(foreach ($cfg in Get-CimInstance -ClassName Win32_NetworkAdapterConfiguration -Filter 'MACAddress IS NOT NULL') {
    $nic = Get-CimInstance -ClassName Win32_NetworkAdapter -Filter ('Index={0}' -f $cfg.Index)
    [ordered]@{
        name = $nic.NetConnectionID
        mac = $cfg.MACAddress
        connected = ($nic.NetConnectionStatus -eq 2)
        wireless = ($nic.Name -match 'Wireless|Wi-Fi|802\.11|WLAN')
        ip_addresses = @($cfg.IPAddress | Where-Object { $_ })
        default_gateways = @($cfg.DefaultIPGateway | Where-Object { $_ })
    }
})

$onAc = $true
$battery = Get-CimInstance -ClassName BatteryStatus -Namespace root\wmi -ErrorAction SilentlyContinue
if ($battery) { $onAc = [bool]($battery | Where-Object { $_.PowerOnline } | Select-Object -First 1) }

$tpm = [ordered]@{ present = $false; spec_version = $null; enabled = $false; activated = $false }
$tpmInfo = Get-CimInstance -Namespace root\cimv2\Security\MicrosoftTpm -ClassName Win32_Tpm -ErrorAction SilentlyContinue
if ($tpmInfo) {
    $tpm.present = $true
    $tpm.spec_version = ($tpmInfo.SpecVersion -split ',')[0].Trim()
    $tpm.enabled = [bool]$tpmInfo.IsEnabled_InitialValue
    $tpm.activated = [bool]$tpmInfo.IsActivated_InitialValue
}

$uefi = $false
try { $uefi = (Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Control' -Name PEFirmwareType).PEFirmwareType -eq 2 } catch { $uefi = $false }

$client = $null
$ccm = Get-CimInstance -Namespace root\ccm -ClassName SMS_Client -ErrorAction SilentlyContinue
if ($ccm) { $client = $ccm.ClientVersion }

$productType = 'server'
if ($os.ProductType -eq 1) { $productType = 'workstation' }
elseif ($os.ProductType -eq 2) { $productType = 'domain_controller' }
$culture = [Globalization.CultureInfo]::GetCultureInfo([int]$os.OSLanguage)

[PSCustomObject][ordered]@{
    # Same convention as ansible.windows setup's ansible_lastboot (local time, 'u' format),
    # so the controller can tell whether the host booted since this was taken.
    boot_time = $os.LastBootUpTime.ToString('u')
    computer_name = $env:COMPUTERNAME
    make = $cs.Manufacturer
    model = $cs.Model
    serial_number = $bios.SerialNumber
    asset_tag = $enclosure.SMBIOSAssetTag
    uuid = $product.UUID
    mac_addresses = @($adapters | ForEach-Object { $_.mac })
    ip_addresses = @($adapters | ForEach-Object { $_.ip_addresses })
    default_gateways = @($adapters | ForEach-Object { $_.default_gateways })
    memory_mb = [int][Math]::Floor($cs.TotalPhysicalMemory / 1MB)
    cpu_mhz = [int]$cpu.MaxClockSpeed
    system_drive_free_mb = [int][Math]::Floor($disk.FreeSpace / 1MB)
    os = [ordered]@{
        caption = $os.Caption
        version = $os.Version
        product_type = $productType
        architecture = $os.OSArchitecture
        language = $culture.Name
        lcid = [int]$os.OSLanguage
    }
    configmgr_client_version = $client
    on_ac_power = $onAc
    network_adapters = $adapters
    uefi = $uefi
    tpm = $tpm
}
