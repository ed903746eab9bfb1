// Finds GTK's "print to file" printer. Its display name is translated
// ("Print to File", "Imprimer dans un fichier", ...), so it is recognised by
// what it is: a virtual printer of the file backend that accepts PDF.
#pragma once

#include <optional>
#include <string>

namespace enconvert::render_child {

// Restricts GTK to the file print backend (no CUPS lookups, which can stall
// when no cupsd runs) and returns the file printer's name, or nullopt.
std::optional<std::string> find_file_printer();

}  // namespace enconvert::render_child
