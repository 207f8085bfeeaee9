import { runtimeContract } from '../contracts/runtime.contract.js';
import { WasmPodRuntime } from '../../runtime/wasm-pod-runtime.js';

runtimeContract('WasmPodRuntime', () => new WasmPodRuntime({ warmWorkers: 1 }));
