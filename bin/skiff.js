#!/usr/bin/env node
// The skiff command (built by `npm run build`, which `npm ci` runs through the prepare script).
import '../dist/cli/main.js';
