// x86 MSI formats (Intel SDM 11.11, VT-d 5.1.2).
import { describe, expect, it } from 'vitest';
import {
  compatAddress,
  compatDest,
  isMsiAddress,
  isRemappable,
  remappableAddress,
  remappableIndex,
} from './msi.ts';

describe('MSI message formats', () => {
  it('compatibility format carries the destination APIC id in address bits 19:12', () => {
    expect(compatAddress(5)).toBe(0xfee05000);
    expect(compatDest(0xfee05000)).toBe(5);
    expect(isRemappable(0xfee05000)).toBe(false);
  });

  it('remappable format carries a 16-bit handle (bits 19:5 plus bit 2) and SHV', () => {
    for (const handle of [0, 1, 0x7fff, 0x8000, 0xffff]) {
      const a = remappableAddress(handle);
      expect(isMsiAddress(a, 0)).toBe(true);
      expect(isRemappable(a)).toBe(true);
      expect(remappableIndex(a, 0)).toBe(handle);
    }
    expect(remappableIndex(remappableAddress(10), 3)).toBe(13);
  });

  it('only 0xfee00000-0xfeefffff with a zero high address is an interrupt', () => {
    expect(isMsiAddress(0xfeefffff, 0)).toBe(true);
    expect(isMsiAddress(0xfef00000, 0)).toBe(false);
    expect(isMsiAddress(0xfee00000, 1)).toBe(false);
  });
});
