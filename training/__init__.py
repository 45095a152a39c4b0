"""Training the recognizer's Keras CNNs. Imports TensorFlow; never used while serving."""
