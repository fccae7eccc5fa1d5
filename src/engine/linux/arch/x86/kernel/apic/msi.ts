// x86 MSI message formats (Intel SDM vol. 3 11.11; VT-d spec 5.1.2): the address and data a device
// writes, decoded into what the IOMMU and the LAPIC act on.

export const MSI_ADDR_BASE = 0xfee00000;
const MSI_ADDR_MASK = 0xfff00000;
/** VT-d: address bit 4 = Interrupt Format (1: remappable). */
export const MSI_ADDR_IR_FORMAT = 1 << 4;
/** VT-d: address bit 3 = SubHandle Valid. */
export const MSI_ADDR_IR_SHV = 1 << 3;

export function isMsiAddress(addr_lo: number, addr_hi: number): boolean {
  return addr_hi === 0 && (addr_lo & MSI_ADDR_MASK) >>> 0 === MSI_ADDR_BASE;
}

export function isRemappable(addr_lo: number): boolean {
  return (addr_lo & MSI_ADDR_IR_FORMAT) !== 0;
}

/** Compatibility format: destination APIC id in address bits 19:12, vector in data bits 7:0. */
export function compatAddress(destApicId: number): number {
  return (MSI_ADDR_BASE | ((destApicId & 0xff) << 12)) >>> 0;
}
export function compatDest(addr_lo: number): number {
  return (addr_lo >>> 12) & 0xff;
}
export function msiVector(data: number): number {
  return data & 0xff;
}
/** Data bits 10:8: delivery mode (0 fixed, 1 lowest priority, ...). */
export function msiDeliveryMode(data: number): number {
  return (data >>> 8) & 7;
}

/** Remappable format: handle bits 14:0 in address bits 19:5, handle bit 15 in address bit 2. */
export function remappableAddress(handle: number): number {
  return (
    (MSI_ADDR_BASE |
      ((handle & 0x7fff) << 5) |
      MSI_ADDR_IR_FORMAT |
      MSI_ADDR_IR_SHV |
      (((handle >> 15) & 1) << 2)) >>>
    0
  );
}
/** The IRTE index a remappable message selects: handle, plus the subhandle from data when SHV is set. */
export function remappableIndex(addr_lo: number, data: number): number {
  const handle = ((addr_lo >>> 5) & 0x7fff) | (((addr_lo >>> 2) & 1) << 15);
  return addr_lo & MSI_ADDR_IR_SHV ? handle + (data & 0xffff) : handle;
}

export function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}
