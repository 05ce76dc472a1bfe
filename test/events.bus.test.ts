import { describeBus } from './events.bus.suite.js';

describeBus('in-process');
