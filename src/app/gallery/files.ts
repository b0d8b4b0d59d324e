/** The files of a drop, folders included (walked recursively, each folder's files in name order, hidden ones left out). */

export function filesFromDrop(transfer: DataTransfer): Promise<File[]> {
  // Entries must be taken during the drop event: the DataTransfer is emptied once it returns.
  const entries = [...transfer.items]
    .filter((item) => item.kind === 'file')
    .map((item) => ({ entry: item.webkitGetAsEntry(), file: item.getAsFile() }));
  return Promise.all(entries.map(({ entry, file }) => (entry ? filesOf(entry) : Promise.resolve(file ? [file] : [])))).then((lists) =>
    lists.flat(),
  );
}

async function filesOf(entry: FileSystemEntry): Promise<File[]> {
  if (isFile(entry)) return [await new Promise<File>((resolve, reject) => entry.file(resolve, reject))];
  if (!isDirectory(entry)) return [];
  // Hidden files (.DS_Store and the like) are no one's photos.
  const children = (await readAll(entry.createReader()))
    .filter((c) => !c.name.startsWith('.'))
    .sort((a, b) => a.name.localeCompare(b.name));
  return (await Promise.all(children.map(filesOf))).flat();
}

/** `readEntries` answers in batches (100 in Chromium) until an empty one. */
async function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

const isFile = (entry: FileSystemEntry): entry is FileSystemFileEntry => entry.isFile;
const isDirectory = (entry: FileSystemEntry): entry is FileSystemDirectoryEntry => entry.isDirectory;
