import { nodeApp } from './apps.js';
import { testTrigger } from './suite.js';

testTrigger('node:http', nodeApp);
