// PCIe Base Spec 6.1.4 (MSI-X) and QEMU hw/pci/msix.c: masked vectors set their pending bit; unmasking
// sends once and clears it; the table's layout and reset values.
import { describe, expect, it } from 'vitest';
import {
  msixClearPending,
  msixCreate,
  msixIsMasked,
  msixMessageControl,
  msixPbaWords,
  msixReleasable,
  msixSetPending,
  msixTableField,
  msixWriteField,
} from './msix.ts';

describe('MSI-X capability and table', () => {
  it('Message Control encodes the table size as N-1 with Function Mask bit 14 and Enable bit 15', () => {
    const m = msixCreate({ table_size: 5 });
    expect(msixMessageControl(m)).toBe(4);
    m.enable = true;
    m.function_mask = true;
    expect(msixMessageControl(m)).toBe(0xc004);
  });

  it('entries reset masked (vector control bit 0)', () => {
    const m = msixCreate({ table_size: 3 });
    expect(m.table.every((e) => e.vector_ctrl === 1)).toBe(true);
    expect(msixIsMasked(m, 0)).toBe(true);
  });

  it('maps a byte offset to an entry field, 16 bytes per entry, and refuses writes past the table', () => {
    const m = msixCreate({ table_size: 2 });
    expect(msixTableField(m, 0)).toEqual({ vector: 0, field: 'addr_lo' });
    expect(msixTableField(m, 28)).toEqual({ vector: 1, field: 'vector_ctrl' });
    expect(msixTableField(m, 32)).toBeNull();
    expect(msixTableField(m, 2)).toBeNull();
  });

  it('keeps address bits 1:0 zero and only the Mask bit of vector control', () => {
    const m = msixCreate({ table_size: 1 });
    msixWriteField(m.table[0], 'addr_lo', 0xfee00003);
    msixWriteField(m.table[0], 'vector_ctrl', 0xffffffff);
    expect(m.table[0]).toMatchObject({ addr_lo: 0xfee00000, vector_ctrl: 1 });
  });

  it('holds one pending interrupt per vector: a second merges into the first', () => {
    const m = msixCreate({ table_size: 70 });
    expect(msixSetPending(m, 65, 7)).toBe(0);
    expect(msixSetPending(m, 65, 8)).toBe(7);
    expect(msixPbaWords(m)).toEqual([0n, 2n]);
  });

  it('releases a pending vector only when it and the function are unmasked and MSI-X is enabled', () => {
    const m = msixCreate({ table_size: 2 });
    msixSetPending(m, 1, 3);
    m.table[1].vector_ctrl = 0;
    expect(msixReleasable(m)).toEqual([]);
    m.enable = true;
    m.function_mask = true;
    expect(msixReleasable(m)).toEqual([]);
    m.function_mask = false;
    expect(msixReleasable(m)).toEqual([1]);
    expect(msixClearPending(m, 1)).toBe(3);
    expect(m.pba[1]).toBe(false);
  });
});
