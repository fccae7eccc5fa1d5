// Where a hop's function can be read: the file at the kernel profile's release (elixir), QEMU's file at
// the release the engine models (gitlab), or, for a name only an unmerged design has, its series on lore. The
// trace, the inspector and the journey all link through here, so one hop links to one place.

import { QEMU_VERSION, type DesignGeneration, type KernelProfile } from '../engine/index.ts';
import { fnLink } from './review/summary.ts';

const KERNEL_TAG: Record<KernelProfile, string> = { '6.1': 'v6.1', '6.12': 'v6.12' };
/** The QEMU release the engine models (hw/vfio/pci.c's behaviour), so its files link to that tag. */
const QEMU_TAG = `v${QEMU_VERSION}.0`;

/** A link to a source file, or null for a step of the hardware (a specification, not a file). */
export function sourceLink(file: string, profile: KernelProfile): string | null {
  if (!/^[\w./-]+\.(c|h)$/.test(file)) return null;
  if (/^(hw|accel|system|util)\//.test(file))
    return `https://gitlab.com/qemu-project/qemu/-/blob/${QEMU_TAG}/${file}`;
  if (/^(drivers|arch|virt|kernel|fs|include|mm)\//.test(file))
    return `https://elixir.bootlin.com/linux/${KERNEL_TAG[profile]}/source/${file}`;
  return null;
}

/** A hop's link: its design's series when only that design has the function, else its file. */
export function hopLink(
  e: { fn: string; file: string },
  design: DesignGeneration,
  profile: KernelProfile,
): string | null {
  const own = fnLink(e, design, profile);
  return own?.startsWith('https://lore.') ? own : sourceLink(e.file, profile);
}
