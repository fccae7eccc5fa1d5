export async function runScenarioFiles(_a: string[]): Promise<number> { return 2; }
