// Copying a secret's name (never a value) to the clipboard, from a grid row
// or the edit view.
import { toast } from './dom.js';

/** copyName puts name on the clipboard and says so, or says why it could not. */
export async function copyName(name) {
  try {
    await navigator.clipboard.writeText(name);
    toast(`Copied ${name}.`);
  } catch {
    toast(`Could not copy ${name}: this browser did not allow the clipboard. Select the name and copy it instead.`);
  }
}

/**
 * copyButton is a small button that copies name; its accessible name is
 * "Copy name NAME". It has no text of its own (the icon is CSS), so the
 * name cell's text stays the name.
 * @param {string} name
 */
export function copyButton(name) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'copy-name';
  b.setAttribute('aria-label', `Copy name ${name}`);
  b.title = 'Copy name';
  b.addEventListener('click', (e) => {
    e.stopPropagation(); // copying is not opening the row
    copyName(name);
  });
  return b;
}
