import { memoryStore } from '../../src/stores/memory.js';
import { testStore } from './conformance.js';

// Each memoryStore() is its own state, so the cross-instance cases run on one instance.
testStore({ name: 'memory', create: (options) => memoryStore(options), shared: false, isModel: true });
