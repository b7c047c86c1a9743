// The few things Blazor cannot do without script.
window.pvsfleet = {
  // Saves text as a file: the CSV export goes through the API client (with its key), not a plain link.
  // Saves bytes (a pcapng clip) the same way; Blazor hands a byte[] over as a Uint8Array.
  downloadBytes(name, type, bytes) {
    window.pvsfleet.download(name, type, bytes);
  },
  download(name, type, text) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  },
};
