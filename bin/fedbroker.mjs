#!/usr/bin/env node
import '../dist/fedbroker.mjs';
