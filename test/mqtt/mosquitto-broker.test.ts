// The shared node channel suite against Debian's mosquitto, configured by mosquitto-config.ts.
import { describe } from 'vitest';
import { CONTROL_PLANE_USERS, describeNodeChannelOverBroker, NODE_TOKENS, type TestBroker } from './node-channel.contract.js';
import { isMosquittoInstalled, MOSQUITTO_PATH, startMosquitto } from './mosquitto-server.js';

if (!isMosquittoInstalled) console.log(`mosquitto suite skipped: ${MOSQUITTO_PATH} not found (apt-get install mosquitto)`);

async function startTestBroker(): Promise<TestBroker> {
  const server = await startMosquitto({ controlPlaneUsers: CONTROL_PLANE_USERS, nodeUsers: NODE_TOKENS });
  return { url: server.url, port: server.port, restart: () => server.restart(), close: () => server.stop() };
}

describe('mosquitto', () => {
  describeNodeChannelOverBroker('mosquitto', startTestBroker, { refusesForbiddenSubscriptions: false, keepaliveScanPeriodMs: 6000 }, !isMosquittoInstalled);
});
