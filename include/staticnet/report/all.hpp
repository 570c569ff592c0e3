// staticnet/report/all.hpp: the trainer's reports as PNG images, drawn with cairo.
//
//   plot_curves       a line chart (axes, "nice" ticks, grid, legend) of named series
//   training_curves   loss.png and accuracy.png of a training history
//   image_grid        labelled images in a grid (misclassified images, augmented samples)
//   confusion_matrix  a row-normalised heat map with the counts in the cells
//   confusion_matrix_text  the same matrix as a text table for the terminal or a log
//
// All drawing, text (cairo's toy text API, "DejaVu Sans") and PNG encoding are
// cairo's; see docs/reports.md for why. Link cairo (the CMake targets do when
// it is found); with staticnet::staticnet the functions are compiled in
// libstaticnet (report/api.hpp). Every function throws std::runtime_error, whose
// message names the output path, when it cannot produce the file (a missing or
// unwritable directory, a cairo error) or when its input is malformed.
//
#pragma once
#include "records.hpp"
#include "confusion_text.hpp"
#include "plot.hpp"
#include "image_grid.hpp"
#include "confusion.hpp"
