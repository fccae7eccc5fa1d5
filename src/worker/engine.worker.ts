// The Web Worker that hosts one engine session behind Comlink. It only adapts: all logic is in
// session.ts (and the engine), so Node can drive the same code without a worker.

import { expose } from 'comlink';
import { Session } from './session.ts';

expose(new Session());
