// Copies the admin UI's static files next to the built admin server (tsc copies only code).

import { cpSync } from 'node:fs';

cpSync('src/admin/ui', 'dist/src/admin/ui', { recursive: true });
