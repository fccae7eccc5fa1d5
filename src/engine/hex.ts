// The one number format of every detail and log line the engine writes: lower-case hex with 0x, as the
// kernel prints vectors and addresses (%#x).
export function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16);
}
