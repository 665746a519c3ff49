import { expressApp } from './apps.js';
import { testTrigger } from './suite.js';

testTrigger('Express 5', expressApp);
