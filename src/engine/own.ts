// User text (a device name, an op, a snapshot path) is looked up as an own property only: `constructor`,
// `toString` or `__proto__` must not find Object.prototype's members.
export function own<T>(rec: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}
