// MSI-X of a PCI function (PCIe Base Spec 6.1.4; QEMU models the same block in hw/pci/msix.c).
// Small predicates composed into behaviour, as QEMU does: a message for a masked vector sets its
// pending bit instead of being sent; unmasking a vector whose pending bit is set sends it once.

import type { MsixEntry, MsixState, MsixTopology } from '../../types.ts';

export const PCI_CAP_ID_MSIX = 0x11;
export const PCI_MSIX_FLAGS_QSIZE = 0x07ff;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_LOWER_ADDR = 0;
export const PCI_MSIX_ENTRY_UPPER_ADDR = 4;
export const PCI_MSIX_ENTRY_DATA = 8;
export const PCI_MSIX_ENTRY_VECTOR_CTRL = 12;
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 1;
/** The spec's limit: table size is an 11-bit N-1 field. */
export const MSIX_MAX_ENTRIES = 2048;

export function msixCreate(t: MsixTopology): MsixState {
  const n = t.table_size;
  return {
    table_size: n,
    enable: false,
    function_mask: false,
    table_bir: t.table_bir ?? 3,
    table_offset: t.table_offset ?? 0,
    pba_bir: t.pba_bir ?? 3,
    pba_offset: t.pba_offset ?? 0x2000,
    cap: t.cap ?? 0x70,
    // Entries reset with the Mask bit set (PCIe Base Spec 6.1.4.3).
    table: Array.from({ length: n }, (): MsixEntry => ({ addr_lo: 0, addr_hi: 0, data: 0, vector_ctrl: 1 })),
    pba: new Array<boolean>(n).fill(false),
    pba_irq: new Array<number>(n).fill(0),
  };
}

/** Message Control as the function reports it: table size N-1, Function Mask, Enable. */
export function msixMessageControl(m: MsixState): number {
  return (
    ((m.table_size - 1) & PCI_MSIX_FLAGS_QSIZE) | (m.function_mask ? 0x4000 : 0) | (m.enable ? 0x8000 : 0)
  );
}

export function msixTableOffsetBir(m: MsixState): number {
  return (m.table_offset & ~7) | (m.table_bir & 7);
}

export function msixPbaOffsetBir(m: MsixState): number {
  return (m.pba_offset & ~7) | (m.pba_bir & 7);
}

// hw/pci/msix.c: msix_vector_masked
export function msixVectorMasked(m: MsixState, vector: number): boolean {
  return (m.table[vector].vector_ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0;
}

// hw/pci/msix.c: msix_is_masked: the vector's own mask or the Function Mask
export function msixIsMasked(m: MsixState, vector: number): boolean {
  return m.function_mask || msixVectorMasked(m, vector);
}

/** Sets the PBA bit; returns the interrupt already pending there (it absorbs this one), or 0. */
export function msixSetPending(m: MsixState, vector: number, irq: number): number {
  if (m.pba[vector]) return m.pba_irq[vector];
  m.pba[vector] = true;
  m.pba_irq[vector] = irq;
  return 0;
}

/** Clears the PBA bit; returns the interrupt that waited there. */
export function msixClearPending(m: MsixState, vector: number): number {
  const irq = m.pba_irq[vector];
  m.pba[vector] = false;
  m.pba_irq[vector] = 0;
  return irq;
}

/** Vectors whose pending message must go out now: pending and no longer masked. */
export function msixReleasable(m: MsixState): number[] {
  const out: number[] = [];
  if (!m.enable) return out;
  for (let v = 0; v < m.table_size; v++) if (m.pba[v] && !msixIsMasked(m, v)) out.push(v);
  return out;
}

/** PBA as the function exposes it: 64-bit words, bit v set when vector v is pending. */
export function msixPbaWords(m: MsixState): bigint[] {
  const words = new Array<bigint>(Math.ceil(m.table_size / 64)).fill(0n);
  m.pba.forEach((p, v) => {
    if (p) words[v >> 6] |= 1n << BigInt(v & 63);
  });
  return words;
}

const ENTRY_FIELDS: Record<number, keyof MsixEntry> = {
  [PCI_MSIX_ENTRY_LOWER_ADDR]: 'addr_lo',
  [PCI_MSIX_ENTRY_UPPER_ADDR]: 'addr_hi',
  [PCI_MSIX_ENTRY_DATA]: 'data',
  [PCI_MSIX_ENTRY_VECTOR_CTRL]: 'vector_ctrl',
};

/** The table entry field at a byte offset of the table (dword accesses only), or null past the table. */
export function msixTableField(
  m: MsixState,
  offset: number,
): { vector: number; field: keyof MsixEntry } | null {
  if (offset < 0 || offset % 4 !== 0 || offset >= m.table_size * PCI_MSIX_ENTRY_SIZE) return null;
  return {
    vector: Math.floor(offset / PCI_MSIX_ENTRY_SIZE),
    field: ENTRY_FIELDS[offset % PCI_MSIX_ENTRY_SIZE],
  };
}

/** Writes one dword of an entry; address low keeps bits 1:0 zero, vector control only bit 0 is writable. */
export function msixWriteField(e: MsixEntry, field: keyof MsixEntry, value: number): void {
  const v = value >>> 0;
  if (field === 'addr_lo') e.addr_lo = (v & ~3) >>> 0;
  else if (field === 'vector_ctrl') e.vector_ctrl = v & PCI_MSIX_ENTRY_CTRL_MASKBIT;
  else e[field] = v;
}
